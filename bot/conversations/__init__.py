"""The guided conversations, one module per flow, each reading top to bottom.

Importing a module declares its flow to the engine (``bot.flow.engine.Flow``); the router
(``bot.flow.router``) then sends it the updates meant for it.
"""

from bot.conversations import edit, reporting, satisfaction, submit

FLOWS = (reporting.FLOW, satisfaction.FLOW, edit.FLOW, submit.FLOW)

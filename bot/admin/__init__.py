"""Administration in the chat: invitations, people and roles, the coordinators' overview,
nudges, document drafts on request and the per-person command menus.

Each module holds one command's handlers; ``bot.handlers.admin.register`` wires them up.
All of them are stateless button flows: every button carries what it acts on, and every
press looks the person up again, so a removed role takes effect on the next tap and a
restart never strands anyone in the middle of a step.
"""

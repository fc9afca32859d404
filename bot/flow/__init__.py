"""Shared machinery of the guided conversations: steps, drafts, buttons, input parsing.

`bot.flow.engine` runs a flow (draft as the source of truth, step counter, Back, /peru,
/ohje, idle timeout, stale buttons); `bot.flow.buttons` encodes callback_data;
`bot.flow.inputs` parses counts, scores and free text; `delivery.replies` replies after the
answers are stored.
"""

"""A division contact's /tila (status matrix), /valmis (submit) and /muokkaa (edit entries).

``bot.handlers.status.register`` wires these modules into the Application: ``show`` renders
the status, ``submit`` and ``edit`` are the two guided flows, which share one persistent
ConversationHandler built in ``conversation`` so that starting one ends the other.
"""

"""A division contact's /tila: the status matrix (``show``) and the texts it shares with the
/valmis and /muokkaa flows (``render``); the flows themselves are in ``bot.conversations``."""

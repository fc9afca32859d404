"""Composition root shared by bot/ and schedules/: services and metrics that neither package owns."""

"""Composition root shared by bot/ and schedules/: the services and metrics neither owns."""

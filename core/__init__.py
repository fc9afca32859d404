"""Composition root shared by bot/ and schedules/: services and metrics neither owns."""

"""Motions put to a vote on an agenda item: the recommendation, amendments and others."""

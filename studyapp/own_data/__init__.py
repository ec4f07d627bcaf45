"""Participants' own data on request: everything the study keeps about one person, to read and to take."""

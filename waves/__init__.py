"""Fieldwork: participants' wave windows, due invitations and reminders, the outbox and its dispatcher."""

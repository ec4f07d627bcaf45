"""Admin pages of fieldwork: wave dashboard, message templates, test messages, the built-in mailbox."""

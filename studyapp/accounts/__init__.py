"""Accounts: researchers, admins and company contacts; login and logout."""

"""The accessibility statement: what was tested, how, what is known not to work, and whom to tell."""

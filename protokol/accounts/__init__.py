"""Accounts: users, roles, passwords (argon2), login and throttling."""

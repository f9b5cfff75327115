"""The Microsoft Teams adapter (botbuilder).  Not built yet: see README, Status."""

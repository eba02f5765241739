"""Finding receivers on the show network: Shure's SLP announcements and Sennheiser's
mDNS/DNS-SD, then a probe of each address heard (docs/devices.md, "Discovery")."""

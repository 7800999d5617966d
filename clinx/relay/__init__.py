"""The relay: authenticate the key, pick a channel, reserve quota, send upstream, stream back, settle, log."""

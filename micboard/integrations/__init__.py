"""Outputs: webhooks, MQTT and OSC that tell the rest of the show what happens on stage."""

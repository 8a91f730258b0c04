"""Kotobot's Rasa input channels (registered in credentials.yml).

The messaging connectors (telegram, facebook, slack, twilio for SMS and WhatsApp, botframework
for Teams) each subclass Rasa 3.6's own channel for that platform and read their secrets from
environment variables, so credentials.yml works as committed: a connector whose variables are
not set answers 503 on its webhook and the rest of the assistant runs. See docs/channels.md.
REST (rest) and the web widget's socket.io (socketio) are Rasa's channels, hardened. Every
channel hands the user's messages to one input guard (guard): docs/security.md.
"""

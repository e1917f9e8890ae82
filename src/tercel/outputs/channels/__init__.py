"""The alert channels: local (stdout, file, program), syslog, HTTP (http, webhook, Slack), e-mail."""

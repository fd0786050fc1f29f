"""The browser console: work queues and dashboards for coding, billing, denials and operations.

Reads are SQL on PostgreSQL; actions are events on the pipeline's input topics (infra.console.
actions). The console writes only its own tables (users, sessions, login attempts, audit).
"""

"""Notifications (issue 19): rules from `notify:` in letterbox.yaml, the outbox written in each
step's commit (`outbox`), and the worker that sends them (`worker`, `channels`). docs/notify.md."""

"""The `letterbox` command: thin click commands over the other layers."""

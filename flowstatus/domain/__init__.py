"""The domain: workflow states, events, the plugin's transitions and access rules. Plain values, no I/O."""

"""Tables of incidents, SOP templates, tasks and timelines."""

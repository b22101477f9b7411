"""Terminal dashboards for roller (Textual). The core package ``tracker`` never imports this."""

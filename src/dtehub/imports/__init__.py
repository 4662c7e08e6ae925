"""DTE files uploaded in the web app, imported in the background with their progress and report."""

"""AppTest page tests of the web app."""

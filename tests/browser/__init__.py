"""End-to-end tests of the web app in headless Chromium."""

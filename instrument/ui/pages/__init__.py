"""The app's pages; each module has one `render()` function."""

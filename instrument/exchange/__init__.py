"""Outside formats, both directions: reading documents strictly, and exporting them."""

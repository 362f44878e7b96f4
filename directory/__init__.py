"""A lookup in the company's own directory (an HR system's HTTPS API) with submitted values:
does the record exist, does it match, and what to copy from it onto the profile."""

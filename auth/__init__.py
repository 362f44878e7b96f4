"""Who is calling: verifiers for each enabled scheme, and the one gate that picks among them."""

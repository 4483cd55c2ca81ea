"""Security tests: the CVE list of PRODUCT.md, limits, CSRF and hostile input."""

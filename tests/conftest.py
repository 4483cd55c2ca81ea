"""Root of the test suite; pytest-homeassistant-custom-component is loaded for every test."""

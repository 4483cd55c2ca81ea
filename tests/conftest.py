"""Root of the test suite.

pytest-homeassistant-custom-component (requirements_test.txt, Python 3.13) is loaded for
every test. The service's own tests also run on Python 3.11 without it
(requirements_service_test.txt, script/test); tests/standalone.py then stands in for it.
"""

from importlib.util import find_spec

if find_spec("pytest_homeassistant_custom_component") is None:
    pytest_plugins = ["tests.standalone"]

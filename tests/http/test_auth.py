import sys
def test_x():
    print([m for m in sys.modules if "conftest" in m])

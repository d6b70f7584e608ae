"""Placeholder: parallel decoding lands next."""
def wants_parallel(inputs, *, strict):
    return False
def read_parallel(inputs, *, errors):
    raise NotImplementedError

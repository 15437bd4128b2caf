"""Operations: the steps of the Measures (workflow, intake), validation and `check`."""

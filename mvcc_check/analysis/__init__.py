"""The pure core: dependency inference, cycle search, and model judgement."""

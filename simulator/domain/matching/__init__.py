"""The matching engine: pure functions of (market data, orders, settings) -> fills and order changes.

Nothing here touches the database or a clock; services/ reads the state, calls these, and writes what they
return in one transaction. See README "How orders fill" for the model in a bot author's words.
"""

"""The enrich stage: language, sentiment, intent, spam, deflection, resolution and topics."""

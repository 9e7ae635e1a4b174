"""Text in, token ids out: reading, tokenizing, vocabulary, encoding, co-occurrence counting."""

"""The pure model core shared by every front door: manifest, normalization, encoding, classifier."""

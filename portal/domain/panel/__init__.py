"""The panel (審査委員会): members under pseudonyms, their declared affiliations and every conflict of interest."""

"""Sign-in, sign-out, users and the one rule of who may see what."""

"""Examples that use inferwatch the way its README tells users to."""

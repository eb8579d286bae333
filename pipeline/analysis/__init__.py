"""Analysis stages: the call as analysers see it (``call``), who is the rep (``roles``), the two questions a
coach asks first (``meeting``, ``distraction`` with its fused score ``distraction_score``), and the coaching
points that follow from them (``coaching``). Each reads the call and owns its part of the report."""

"""The rules as R1CS constraints: builder, gadgets, block and exit circuits, iden3 export."""

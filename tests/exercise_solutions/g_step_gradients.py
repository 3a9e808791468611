import minigan as mg


def g_step_gradients(G, D, z):
    fake = G(z)
    loss = mg.losses.BCEWithLogits()
    value = loss(D(fake), 1.0)
    D.freeze()
    try:
        grad_fake = D.backward(loss.backward())
    finally:
        D.unfreeze()
    G.zero_grad()
    G.backward(grad_fake)
    return value

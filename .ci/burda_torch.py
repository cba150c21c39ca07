# The PyTorch reference for the IWAE paper's VAE setting (Burda et al. 2015), the model `burda-vae`:
# 784-200-200 tanh encoder and decoder, 50 latent units, Bernoulli decoder, pixels binarized anew
# each minibatch, batch 20, Adam (1e-3, epsilon 1e-4), one reparameterized sample, analytic KL.
# The encoder's scale is exp of its output, as in the paper (Latent's compiled guide uses softplus).
# Prints seconds per epoch. Usage: python burda_torch.py THREADS EPOCHS [iwae]; with `iwae`, also
# log p(x) by k = 5000 importance samples on the first 1000 test images, binarized once.
# MNIST_DIR: the IDX .gz folder (default ../shared/data/mnist). Needs torch and numpy. Not part of CI.
import os, gzip, sys, time, struct, resource, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
torch.set_num_threads(threads); torch.manual_seed(0)
DATA = os.environ.get('MNIST_DIR', os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'data', 'mnist'))
def idx(path):
    b = gzip.open(path, 'rb').read(); n = struct.unpack('>I', b[4:8])[0]
    return np.frombuffer(b, np.uint8, offset=16).reshape(n, 784).astype(np.float32) / 255
xtr = torch.from_numpy(idx(os.path.join(DATA, 'train-images-idx3-ubyte.gz')))
xte = torch.from_numpy(idx(os.path.join(DATA, 't10k-images-idx3-ubyte.gz')))[:1000]
class VAE(nn.Module):
    def __init__(s):
        super().__init__()
        s.enc = nn.Sequential(nn.Linear(784, 200), nn.Tanh(), nn.Linear(200, 200), nn.Tanh())
        s.mu = nn.Linear(200, 50); s.ls = nn.Linear(200, 50)
        s.dec = nn.Sequential(nn.Linear(50, 200), nn.Tanh(), nn.Linear(200, 200), nn.Tanh(), nn.Linear(200, 784))
    def elbo(s, x):
        h = s.enc(x); mu, ls = s.mu(h), s.ls(h)
        z = mu + torch.exp(ls) * torch.randn_like(mu)
        rec = -F.binary_cross_entropy_with_logits(s.dec(z), x, reduction='sum')
        kl = 0.5 * torch.sum(mu.pow(2) + torch.exp(2 * ls) - 1 - 2 * ls)
        return rec - kl
    def iwae(s, x, k):
        h = s.enc(x); mu, ls = s.mu(h), s.ls(h)
        eps = torch.randn(k, *mu.shape); z = mu + torch.exp(ls) * eps
        lpx = -F.binary_cross_entropy_with_logits(s.dec(z), x.expand(k, *x.shape), reduction='none').sum(-1)
        lpz = (-0.5 * z.pow(2) - 0.5 * np.log(2 * np.pi)).sum(-1)
        lq = (-0.5 * eps.pow(2) - 0.5 * np.log(2 * np.pi) - ls).sum(-1)
        return (torch.logsumexp(lpx + lpz - lq, 0) - np.log(k)).sum()
m = VAE(); opt = torch.optim.Adam(m.parameters(), 1e-3, eps=1e-4)
for ep in range(epochs):
    perm = torch.randperm(60000); tot = 0.0; t0 = time.perf_counter()
    for i in range(0, 60000, 20):
        p = xtr[perm[i:i+20]]; x = (torch.rand_like(p) < p).float()
        loss = -m.elbo(x); opt.zero_grad(); loss.backward(); opt.step(); tot += -loss.item()
    dt = time.perf_counter() - t0
    print(f"epoch {ep+1} threads {threads} sec {dt:.2f} train_elbo {tot/60000:.2f}", flush=True)
if len(sys.argv) > 3:
    xb = (torch.rand_like(xte) < xte).float()
    with torch.no_grad(): ll = sum(m.iwae(xb[i:i+2], 5000).item() for i in range(0, 1000, 2)) / 1000
    print(f"iwae_k5000_first1000 {ll:.2f}")
print(f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:.0f}")

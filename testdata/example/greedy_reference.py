# Independent float64 reference for the example model (Embedding -> GRU(reset_after) -> Dense softmax),
# checked against Keras' y0.npy first, then used for the greedy generation loop.
import h5py, numpy as np
import os
d=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'char_gru_generator/')
f=h5py.File(d+'model.weights.h5','r')
E=f['layers/embedding/vars/0'][()].astype(np.float64)
K=f['layers/gru/cell/vars/0'][()].astype(np.float64)
R=f['layers/gru/cell/vars/1'][()].astype(np.float64)
B=f['layers/gru/cell/vars/2'][()].astype(np.float64)
W=f['layers/dense/vars/0'][()].astype(np.float64)
b=f['layers/dense/vars/1'][()].astype(np.float64)
U=8
sig=lambda x:1/(1+np.exp(-x))
def step(tok,h):
    x=E[tok]
    xz=x@K+B[0]; hz=h@R+B[1]
    z=sig(xz[:U]+hz[:U]); r=sig(xz[U:2*U]+hz[U:2*U])
    hh=np.tanh(xz[2*U:]+r*hz[2*U:])
    h=z*h+(1-z)*hh
    lo=h@W+b; p=np.exp(lo-lo.max()); p/=p.sum()
    return p,h
x0=np.load(d+'x0.npy'); y0=np.load(d+'y0.npy')
mx=0
for row in range(x0.shape[0]):
    h=np.zeros(U)
    for t in range(x0.shape[1]):
        p,h=step(x0[row,t],h); mx=max(mx,abs(p-y0[row,t]).max())
print('max diff vs keras y0', mx)
print('x0 row0', x0[0].tolist())
print('argmax y0 row0', y0[0].argmax(-1).tolist())
print('y0 shape', y0.shape)
# greedy: prime with first 5 tokens of row 0, then generate 10
prime=x0[0,:5].tolist()
h=np.zeros(U)
for tok in prime: p,h=step(tok,h)
gen=[]
for i in range(10):
    tok=int(p.argmax()); gen.append(tok)
    # margin between top two, to be sure float32 rounding cannot flip it
    s=np.sort(p); print('margin', s[-1]-s[-2])
    p,h=step(tok,h)
print('prime', prime, 'generated', gen)

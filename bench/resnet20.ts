/**
 * ResNet-20 for CIFAR-10 (He et al. 2015, Sec. 4.2) and its SGD train step at batch 128, shared by
 * the model benchmark (bench/models.ts) and the data-pipeline benchmark (bench/data-pipeline.ts).
 */
import { nn, optim, pad, randint, randn, type Tensor } from '../src/index.js';

const F = nn.functional;

/** ResNet-20 for CIFAR-10 (He et al. 2015, Sec. 4.2): one basic block with an option-A shortcut. */
class BasicBlock extends nn.Module {
  readonly conv1: nn.Conv2d;
  readonly bn1: nn.BatchNorm2d;
  readonly conv2: nn.Conv2d;
  readonly bn2: nn.BatchNorm2d;

  constructor(
    readonly cin: number,
    readonly cout: number,
    stride: number,
  ) {
    super();
    this.conv1 = new nn.Conv2d(cin, cout, 3, { stride, padding: 1, bias: false });
    this.bn1 = new nn.BatchNorm2d(cout);
    this.conv2 = new nn.Conv2d(cout, cout, 3, { padding: 1, bias: false });
    this.bn2 = new nn.BatchNorm2d(cout);
  }

  forward(x: Tensor): Tensor {
    const out = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu_()));
    let short = x;
    const p = this.cout - this.cin;
    if (p > 0) {
      // option A: subsample by 2 and zero-pad the new channels (no parameters)
      const sub = x.slice(null, null, [0, null, 2], [0, null, 2]); // [B, cin, H/2, W/2]
      short = pad(sub, [0, 0, 0, 0, p >> 1, p - (p >> 1)]); // [B, cout, H/2, W/2]
    }
    return out.add_(short).relu_(); // in place, as torchvision's block: out += identity; relu(inplace=True)
  }
}

export class ResNet20 extends nn.Module {
  readonly conv1 = new nn.Conv2d(3, 16, 3, { padding: 1, bias: false });
  readonly bn1 = new nn.BatchNorm2d(16);
  readonly blocks: nn.ModuleList<BasicBlock>;
  readonly fc = new nn.Linear(64, 10);

  constructor() {
    super();
    const blocks: BasicBlock[] = [];
    let cin = 16;
    for (const [cout, stride] of [[16, 1], [32, 2], [64, 2]] as const) {
      for (let i = 0; i < 3; i++) {
        blocks.push(new BasicBlock(cin, cout, i === 0 ? stride : 1));
        cin = cout;
      }
    }
    this.blocks = new nn.ModuleList(blocks);
  }

  forward(x: Tensor): Tensor {
    let h = this.bn1.forward(this.conv1.forward(x)).relu_(); // [B, 16, 32, 32]
    for (const b of this.blocks) h = b.forward(h); // [B, 64, 8, 8]
    return this.fc.forward(h.mean([2, 3])); // [B, 10]
  }
}

/** One SGD-momentum train step of ResNet-20 on a fixed random batch of 128 CIFAR-sized images. */
export function buildResNetStep(): () => unknown {
  const model = new ResNet20().train();
  const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  const x = randn([128, 3, 32, 32]);
  const y = randint(0, 10, [128]);
  return () => {
    opt.zeroGrad();
    const loss = F.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    return loss.item();
  };
}


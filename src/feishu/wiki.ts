import type { FeishuTransport } from './transport.js';
import type { WikiNode } from './types.js';

/** Wiki: what document a wiki node is. */
export interface WikiApi {
  getWikiNode(token: string): Promise<WikiNode>;
}

export function createWikiApi(transport: FeishuTransport): WikiApi {
  const { sdk } = transport;
  return {
    async getWikiNode(token) {
      const endpoint = 'wiki.v2.space.getNode';
      // https://open.feishu.cn/document/server-docs/docs/wiki-v2/space-node/get_node
      const body = await transport.call(endpoint, () => sdk.wiki.v2.space.getNode({ params: { token } }));
      const node = body.data?.node;
      if (!node?.obj_token || !node.obj_type)
        throw transport.unexpected(endpoint, body, 'data.node.obj_token');
      return { objToken: node.obj_token, objType: node.obj_type, title: node.title };
    },
  };
}
